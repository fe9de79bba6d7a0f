import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileMetadataStore } from '../../src/adapters/metadata.js';
import { connectionRecordSchema, type ConnectionRecord } from '../../src/domain/connection.js';
import { CliError } from '../../src/domain/errors.js';
import { displayCommand, secretCommandProblem, secretCommandSchema, splitCommandLine } from '../../src/domain/secret-command.js';
import { makeRecord, makeToken } from '../fakes/records.js';

/** A PEM private key's first line and some base64, made at run time (no key-shaped literal in the repository). */
const pemKey = (): string => ['-----BEGIN ' + 'PRIVATE KEY-----', 'MIIEv' + 'Q'.repeat(64), '-----END ' + 'PRIVATE KEY-----'].join('\n');

describe('a secret command: stored as an argv', () => {
  it.each([
    [['pass', 'show', 'okta/prod']],
    [['op', 'read', 'op://Ops/okta-prod/credential']],
    [['vault', 'kv', 'get', '-field=token', 'secret/okta/prod']],
    [['aws', 'secretsmanager', 'get-secret-value', '--secret-id', 'okta/prod', '--query', 'SecretString', '--output', 'text']],
    [['doppler', 'secrets', 'get', 'OKTA_PROD_TOKEN', '--plain']],
    [['sops', '-d', '--extract', '["okta"]["prod"]', 'secrets.enc.yaml']],
    [['sh', '-c', 'pass show okta/prod | head -n 1']],
    // A multi-line script is an argv too.
    [['sh', '-c', 'set -e\n\tpass show okta/prod']],
    // 00 and 40 characters inside a longer word are no token.
    [['pass', 'show', `okta/${'0'.repeat(2)}${'a'.repeat(45)}`]],
  ])('accepts %j as it is', (argv) => {
    expect(secretCommandProblem(argv)).toBeUndefined();
    expect(secretCommandSchema.parse(argv)).toEqual(argv);
  });

  it.each([
    { argv: [], why: /empty/ },
    { argv: [''], why: /empty/ },
    { argv: Array.from({ length: 65 }, () => 'x'), why: /more than 64 arguments/ },
    { argv: ['echo', 'x'.repeat(4097)], why: /argument 1 .* longer than 4096/ },
    { argv: ['echo', 'a\u0000b'], why: /argument 1 .* control characters/ },
    { argv: ['echo', 'a\u001b[2Jb'], why: /argument 1 .* control characters/ },
  ])('refuses $why', ({ argv, why }) => {
    expect(secretCommandProblem(argv)).toMatch(why);
    expect(secretCommandSchema.safeParse(argv).success).toBe(false);
  });

  const token = makeToken();
  it.each([
    { case: 'a token as an argument', argv: ['echo', token] },
    { case: 'a token as the command name', argv: [token] },
    { case: 'a token in --flag=value', argv: ['curl', `--token=${token}`] },
    { case: 'a token inside an sh -c script', argv: ['sh', '-c', `printf %s ${token}`] },
    { case: 'an SSWS header', argv: ['curl', '-H', `Authorization: SSWS ${'x'.repeat(30)}`] },
    { case: 'a PEM private key', argv: ['echo', pemKey()] },
    { case: 'a private JWK', argv: ['echo', `{"kty":"RSA","d":"${'a'.repeat(40)}"}`] },
    { case: 'the base64 of a DER key', argv: ['echo', `MIIEvQ${'A'.repeat(80)}`] },
  ])('refuses $case, and never quotes it', ({ argv }) => {
    const problem = secretCommandProblem(argv) ?? '';
    expect(problem).toMatch(/looks like (an API token|a private key): a command never holds the secret/);
    for (const arg of argv.slice(1)) expect(problem).not.toContain(arg);
    const result = secretCommandSchema.safeParse(argv);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain(argv.at(-1)?.slice(-20));
  });

  it('names the argument that holds the secret', () => {
    expect(secretCommandProblem(['sh', '-c', `echo ${token}`])).toMatch(/^argument 2 /);
    expect(secretCommandProblem([token])).toMatch(/^the command name /);
  });
});

describe('a secret command in connections.json', () => {
  it('an older record reads with secretCommand null', () => {
    const older: Partial<ConnectionRecord> = makeRecord('prod', 'https://acme.okta.com');
    delete older.secretCommand;
    expect(connectionRecordSchema.parse(older).secretCommand).toBeNull();
  });

  it('an argv reads back as it was written', () => {
    const record = makeRecord('prod', 'https://acme.okta.com', { secretCommand: ['pass', 'show', 'okta/prod'] });
    expect(connectionRecordSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
  });

  it.each([
    { case: 'a string (a shell line)', value: 'pass show okta/prod' },
    { case: 'an empty argv', value: [] },
    { case: 'a number in it', value: ['pass', 1] },
  ])('refuses $case', ({ value }) => {
    expect(connectionRecordSchema.safeParse({ ...makeRecord('prod', 'https://acme.okta.com'), secretCommand: value }).success).toBe(false);
  });

  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'okc-seccmd-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a hand-edited argv holding a token is refused on read (exit 2, the record named), without printing the token', async () => {
    const secret = makeToken();
    const record = { ...makeRecord('prod', 'https://acme.okta.com'), secretCommand: ['echo', secret] };
    await writeFile(join(dir, 'connections.json'), JSON.stringify({ version: 2, connections: [record] }));
    const error = await fileMetadataStore(dir).list().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CliError);
    const cli = error as CliError;
    expect(cli.exitCode).toBe(2);
    expect(cli.message).toMatch(/the record "prod" \(connections\.0\): secretCommand .*looks like an API token/);
    expect(`${cli.message} ${cli.hint ?? ''}`).not.toContain(secret);
  });
});

describe('a command typed at the prompt', () => {
  it.each([
    ['pass show okta/prod', ['pass', 'show', 'okta/prod']],
    ['  op   read  op://Ops/okta-prod/credential  ', ['op', 'read', 'op://Ops/okta-prod/credential']],
    ["sh -c 'pass show okta/prod | head -n 1'", ['sh', '-c', 'pass show okta/prod | head -n 1']],
    ['sops -d --extract \'["okta"]["prod"]\' s.yaml', ['sops', '-d', '--extract', '["okta"]["prod"]', 's.yaml']],
    ['echo "a \\"b\\" c" d\\ e', ['echo', 'a "b" c', 'd e']],
    ["echo '' x", ['echo', '', 'x']],
    ["echo 'it'\\''s'", ['echo', "it's"]],
  ])('%s', (line, argv) => {
    expect(splitCommandLine(line)).toEqual({ argv });
  });

  it.each([
    ['pass show okta/prod | head -n 1', /"\|" is shell syntax/],
    ['op read "$ITEM"', /"\$" inside double quotes/],
    ['cat ~/token', /"~" is shell syntax/],
    ['echo a; rm x', /";" is shell syntax/],
    ["echo 'open", /single quote is not closed/],
    ['echo "open', /double quote is not closed/],
  ])('refuses %s', (line, why) => {
    const split = splitCommandLine(line);
    expect('problem' in split ? split.problem : '').toMatch(why);
  });

  it('what it shows splits back into the same argv', () => {
    for (const argv of [['pass', 'show', 'okta/prod'], ['sh', '-c', "printf '%s' \"$X\" | head -n 1"], ['echo', '', "it's"]]) {
      expect(splitCommandLine(displayCommand(argv, Number.MAX_SAFE_INTEGER))).toEqual({ argv });
    }
  });

  it('a long command is shortened for messages', () => {
    expect(displayCommand(['sh', '-c', 'x'.repeat(500)])).toHaveLength(120);
  });
});
