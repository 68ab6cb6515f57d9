# Sourced by scripts: start_dynamodb_local starts DynamoDB Local in memory on a free loopback
# port, exports its endpoint, and stops it when the calling script exits.
start_dynamodb_local() {
  local root jar_dir port
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  jar_dir="$("$root/scripts/ensure-dynamodb-local")"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  (cd "$jar_dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -sharedDb -disableTelemetry -port "$port") >"$root/.tools/dynamodb-local.log" 2>&1 &
  DYNAMODB_LOCAL_PID=$!
  trap 'kill "$DYNAMODB_LOCAL_PID" 2>/dev/null || true' EXIT
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
  export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_EC2_METADATA_DISABLED=true
  # Ready means answering a request, not just listening: the JVM listens well before it serves.
  for _ in $(seq 1 600); do
    if python3 - "$port" 2>/dev/null <<'PY'
import sys, urllib.request
request = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}/", data=b"{}", method="POST",
    headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
             "Content-Type": "application/x-amz-json-1.0",
             "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/"
                              "aws4_request, SignedHeaders=host, Signature=0"})
urllib.request.urlopen(request, timeout=10).read()
PY
    then
      return 0
    fi
    kill -0 "$DYNAMODB_LOCAL_PID" 2>/dev/null || { cat "$root/.tools/dynamodb-local.log" >&2; return 1; }
    sleep 0.1
  done
  echo "DynamoDB Local did not start" >&2
  return 1
}
