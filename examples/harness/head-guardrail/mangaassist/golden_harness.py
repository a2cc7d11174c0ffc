"""costgate harness entry point: feeds every golden case through the real service code.

costgate runs `python3 -m mangaassist.golden_harness` with AWS_ENDPOINT_URL_BEDROCK_RUNTIME pointing
at its Bedrock stand-in and COSTGATE_CASES naming a JSONL file of the golden cases. Each case is
announced on the control endpoint first: calls without their own tag (InvokeModel here) are then
attributed to it, and a case answered without any model call (order status) is known to cost $0.
"""

import json
import os
import sys
import urllib.parse
import urllib.request

from . import service


def announce(case_id):
    base = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"].rstrip("/")
    url = base + "/_costgate/case/" + urllib.parse.quote(case_id, safe="")
    urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=10).read()


def main():
    with open(os.environ["COSTGATE_CASES"], encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    for case in cases:
        announce(case["id"])
        service.answer(case["intent"], case["query"], case.get("history"), case_id=case["id"])
    print("answered {} cases".format(len(cases)), file=sys.stderr)


if __name__ == "__main__":
    main()
