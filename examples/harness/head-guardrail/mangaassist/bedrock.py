"""The Bedrock Runtime client, configured the standard way (region and endpoint from the environment)."""

import os

import boto3
from botocore.config import Config

_client = None


def client():
    global _client
    if _client is None:
        # AWS_ENDPOINT_URL_BEDROCK_RUNTIME (set by costgate's harness mode) is honoured by boto3 itself.
        _client = boto3.client(
            "bedrock-runtime",
            region_name=os.environ.get("AWS_REGION", "us-east-1"),
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
    return _client
