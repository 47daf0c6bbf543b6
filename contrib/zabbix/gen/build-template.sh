#!/bin/bash
# build-template.sh: rebuild contrib/zabbix/template_lvs_agentx.yaml
# (maintainer tool; `make zabbix`). Generates the template source from the
# MIB package's column table (go run ./contrib/zabbix/gen), imports it into
# a private Zabbix 6.0 (test/graphs/zabbix.sh, the graph tests' instance)
# through the API and writes what Zabbix's configuration.export makes of
# it: the committed file is Zabbix's own output, so it imports cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
zsh=$repo/test/graphs/zabbix.sh
work=$(mktemp -d /var/tmp/lvs-zabbix-build.XXXXXX)
trap '"$zsh" stop "$work"; rm -rf "$work"' EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$zsh" start "$work"
"$zsh" web "$work" "$port"
(cd "$repo" && "${GO:-go}" run ./contrib/zabbix/gen) >"$work/source.json"
mkdir -p "$repo/contrib/zabbix"
python3 - "http://127.0.0.1:$port/api_jsonrpc.php" "$work/source.json" >"$repo/contrib/zabbix/template_lvs_agentx.yaml" <<'PY'
import json, sys, urllib.request

url, source = sys.argv[1], sys.argv[2]

def call(method, params, auth=None):
    req = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
    if auth:
        req["auth"] = auth
    r = urllib.request.urlopen(urllib.request.Request(url, json.dumps(req).encode(), {"Content-Type": "application/json-rpc"}))
    out = json.load(r)
    if "error" in out:
        sys.exit("%s: %s" % (method, out["error"]))
    return out["result"]

auth = call("user.login", {"username": "Admin", "password": "zabbix"})
src = open(source).read()
rules = {k: {"createMissing": True, "updateExisting": True}
         for k in ["templates", "items", "discoveryRules", "triggers", "graphs", "valueMaps"]}
rules["groups"] = {"createMissing": True}
call("configuration.import", {"format": "json", "rules": rules, "source": src}, auth)
name = json.loads(src)["zabbix_export"]["templates"][0]["template"]
t = call("template.get", {"filter": {"host": name}}, auth)
sys.stdout.write(call("configuration.export", {"format": "yaml", "options": {"templates": [t[0]["templateid"]]}}, auth))
PY
echo "wrote contrib/zabbix/template_lvs_agentx.yaml"
