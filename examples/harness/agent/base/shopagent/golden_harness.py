"""costgate harness entry point: runs every golden case through the agent.

costgate runs `python3 -m shopagent.golden_harness` with AWS_ENDPOINT_URL_BEDROCK_RUNTIME pointing at
its Bedrock stand-in and COSTGATE_CASES naming a JSONL file of the golden cases. Each Converse call
carries the case id in `requestMetadata`, so every turn of the loop is priced to its case.
"""

import json
import os
import sys

from . import agent


def main():
    with open(os.environ["COSTGATE_CASES"], encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    for case in cases:
        agent.answer(case["query"], case_id=case["id"])
    print("answered {} cases".format(len(cases)), file=sys.stderr)


if __name__ == "__main__":
    main()
