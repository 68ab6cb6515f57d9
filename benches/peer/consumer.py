"""A peer consumer written the way AWS samples are: for every record, one GetCase and one PutItem.

No coalescing, no ordering, no deduplication, no counters, no related items. Run by
`benches/peer_comparison.rs` against the same DynamoDB Local and Cases stand-in as the projector:

    python consumer.py BATCHES.json

Environment: TABLE_NAME, DYNAMODB_ENDPOINT, CASES_ENDPOINT, WANTED_FIELDS (JSON list).
Prints one JSON line of measurements.
"""

import json
import os
import resource
import sys
import time

import boto3

cases = boto3.client(
    "connectcases",
    endpoint_url=os.environ["CASES_ENDPOINT"],
    region_name="us-west-2",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
dynamodb = boto3.client(
    "dynamodb",
    endpoint_url=os.environ["DYNAMODB_ENDPOINT"],
    region_name="us-west-2",
    # DynamoDB Local keeps a database per access key: the bench's own.
    aws_access_key_id=os.environ["DYNAMODB_ACCESS_KEY_ID"],
    aws_secret_access_key="test",
)
TABLE = os.environ["TABLE_NAME"]
FIELDS = [{"id": f} for f in json.loads(os.environ["WANTED_FIELDS"])]
stats = {"get_case": 0, "writes": 0, "write_units": 0.0}


def to_attr(value):
    if "stringValue" in value:
        return {"S": value["stringValue"]}
    if "doubleValue" in value:
        number = float(value["doubleValue"])
        return {"N": str(int(number)) if number.is_integer() else repr(number)}
    if "booleanValue" in value:
        return {"BOOL": value["booleanValue"]}
    if "userArnValue" in value:
        return {"S": value["userArnValue"]}
    return {"NULL": True}


def handler(event, context):
    for record in event["Records"]:
        body = json.loads(record["body"])
        detail = body["detail"]
        case_id = (detail.get("case") or detail.get("relatedItem"))["caseId"]
        domain_id = body["resources"][0].split("domain/")[1].split("/")[0]
        stats["get_case"] += 1
        try:
            case = cases.get_case(domainId=domain_id, caseId=case_id, fields=FIELDS)
            fields = {f["id"]: to_attr(f["value"]) for f in case["fields"]}
            item = {"pk": {"S": "CASE#" + case_id}, "sk": {"S": "CASE"}, "fields": {"M": fields}}
            if "status" in fields:
                item["status"] = fields["status"]
        except cases.exceptions.ResourceNotFoundException:
            item = {"pk": {"S": "CASE#" + case_id}, "sk": {"S": "CASE"}, "deleted": {"BOOL": True}}
        out = dynamodb.put_item(TableName=TABLE, Item=item, ReturnConsumedCapacity="TOTAL")
        stats["writes"] += 1
        stats["write_units"] += out["ConsumedCapacity"]["CapacityUnits"]
    return {"batchItemFailures": []}


def main():
    with open(sys.argv[1]) as f:
        batches = json.load(f)
    events = sum(len(b["Records"]) for b in batches)
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        handler(batch, None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"events": events, "seconds": wall, "cpu_seconds": cpu, "peak_rss_kb": peak_kb, **stats}))


if __name__ == "__main__":
    main()
