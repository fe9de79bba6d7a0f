// The baseline for `okta-connect test`: the same two HTTPS requests with Node's own fetch, nothing else.
const [orgUrl, token] = [process.env.BENCH_ORG_URL, process.env.BENCH_TOKEN];
const started = performance.now();
const org = await (await fetch(`${orgUrl}/.well-known/okta-organization`)).json();
if (typeof org.id !== 'string' || !org.id.startsWith('00o')) process.exit(7);
const me = await fetch(`${orgUrl}/api/v1/users/me`, { headers: { authorization: `SSWS ${token}`, accept: 'application/json' } });
const user = await me.json();
if (me.status !== 200 || typeof user.id !== 'string') process.exit(4);
process.stdout.write(`ok ${user.profile.login} ${Math.round(performance.now() - started)} ms\n`);
