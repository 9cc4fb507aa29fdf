#!/usr/bin/env bash
# The example (npm run example): deploys examples/shop's staging, promotes the same release to
# production, and prints `berth status`. Installs what is missing and starts the engine first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund
fi
npm run build >/dev/null
bash scripts/engine.sh
bash scripts/prepare-contexts.sh examples

# Real env files are never committed; the example starts from the committed .env.example files.
for env in staging production; do
  [ -f "environments/$env.env" ] || install -m 0600 "environments/$env.env.example" "environments/$env.env"
done

berth() { node bin/run.js "$@" --config deploy.example.yml; }
berth deploy staging
tag=$(berth releases staging --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).releases.find(r=>r.status==="active").tag))')
berth deploy production --tag "$tag" --yes
echo
berth status
echo
echo "staging:    $(node -e 'fetch("http://127.0.0.1:8081/version").then(r=>r.text()).then(t=>console.log(t.trim()))')"
echo "production: $(node -e 'fetch("http://127.0.0.1:8082/version").then(r=>r.text()).then(t=>console.log(t.trim()))')"
