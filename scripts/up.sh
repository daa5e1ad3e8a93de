#!/usr/bin/env bash
# The main job: install, start `kframe up` on a local data dir, apply the demo workload with the
# real kubectl, show it, and keep the cluster running in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"

DATA_DIR=${KFRAME_DATA_DIR:-$PWD/.kframe}
PORT=${KFRAME_PORT:-6443}
KUBECONFIG_PATH="$DATA_DIR/kubeconfig"

# Two nodes whose kubelets run pods as real processes (each pod in its own network namespace
# when run as root; on the host network otherwise).
kframe up --data-dir "$DATA_DIR" --port "$PORT" --nodes 2 --runtime process &
KFRAME_PID=$!
trap 'kill -TERM $KFRAME_PID 2>/dev/null; wait $KFRAME_PID' EXIT INT TERM

for _ in $(seq 1 100); do
  if [ -f "$KUBECONFIG_PATH" ] && kubectl --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz \
      >/dev/null 2>&1; then
    break
  fi
  kill -0 $KFRAME_PID 2>/dev/null || { echo "kframe up exited early" >&2; exit 1; }
  sleep 0.2
done

kubectl --kubeconfig "$KUBECONFIG_PATH" apply -f examples/demo/workload.yaml
K="kubectl --kubeconfig $KUBECONFIG_PATH"
$K wait -n demo pod/hello --for=condition=Ready --timeout=60s >/dev/null
$K rollout status -n demo deployment/web --timeout=120s
$K wait -n demo job/greet --for=condition=Complete --timeout=60s >/dev/null
$K get nodes
$K get deployments,replicasets,jobs,services,endpointslices,configmaps -n demo
$K get pods -n demo -o wide
$K get events -n demo --field-selector reason=Scheduled
POD_IP=$($K get pod -n demo hello -o jsonpath='{.status.podIP}')
echo "GET http://$POD_IP:8080/ answers $(python3 -c "import urllib.request as u; print(u.urlopen('http://$POD_IP:8080/', timeout=5).status)")"
echo "kubectl logs job/greet: $($K logs -n demo job/greet)"
echo "kubectl exec demo/hello: $($K exec -n demo hello -- sh -c 'echo $GREETING')"
echo
echo "kframe is running. In another shell: kubectl --kubeconfig $KUBECONFIG_PATH get all -A"
echo "Ctrl-C stops it; the state stays in $DATA_DIR."
wait $KFRAME_PID
