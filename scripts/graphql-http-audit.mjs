// Runs the graphql-http package's GraphQL-over-HTTP server audit against a
// running Roost and prints each check. Exits 1 when a MUST check fails.
// Usage: scripts/graphql-http-audit [URL]   (default http://127.0.0.1:8000/graphql)
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';
const results = await auditServer({ url });
let failedMust = 0;
for (const r of results) {
  const mark = r.status === 'ok' ? 'ok  ' : r.status === 'warn' ? 'warn' : 'FAIL';
  console.log(`${mark} ${r.name}${r.status === 'ok' ? '' : `\n       ${r.reason}`}`);
  if (r.status === 'error') failedMust += 1;
}
const count = (s) => results.filter((r) => r.status === s).length;
console.log(`\n${count('ok')} ok, ${count('warn')} warnings, ${count('error')} errors of ${results.length}`);
process.exit(failedMust > 0 ? 1 : 0);
