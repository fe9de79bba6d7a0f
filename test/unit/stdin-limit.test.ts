import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addOptionsSchema, addRun } from '../../src/commands/add.js';
import { parseOptions } from '../../src/domain/options.js';
import { readAll } from '../../src/io/streams.js';
import { exitOf, fakeContext, makeToken } from '../fakes/context.js';

const ORG = 'https://acme.okta.com';
const KIB_64 = 64 * 1024;

/** `yes`: an endless stream of "y\n", counting what was taken from it. */
function endless(): Readable & { served: number } {
  const line = Buffer.from('y\n'.repeat(8192));
  const stream = new Readable({
    read() {
      stream.served += line.length;
      this.push(line);
    },
  }) as Readable & { served: number };
  stream.served = 0;
  return stream;
}

describe('readAll: at most maxBytes', () => {
  it('an endless stream ends, having taken little more than the limit', async () => {
    const stream = endless();
    await expect(readAll(stream, KIB_64)).resolves.toEqual({ text: '', isOverLimit: true });
    expect(stream.served).toBeLessThan(KIB_64 + 64 * 1024);
    expect(stream.destroyed).toBe(true);
  });

  it.each([
    [0, false],
    [KIB_64 - 1, false],
    [KIB_64, false],
    [KIB_64 + 1, true],
    [10 * 1024 * 1024, true],
  ])('%d bytes: over the limit %s', async (size, isOverLimit) => {
    const result = await readAll(Readable.from([Buffer.alloc(size, 'a')]), KIB_64);
    expect(result.isOverLimit).toBe(isOverLimit);
    expect(result.text.length).toBe(isOverLimit ? 0 : size);
  });

  it('counts bytes, not characters: 64 KiB of a 3-byte character is over', async () => {
    const result = await readAll(Readable.from(['€'.repeat(Math.ceil(KIB_64 / 3) + 1)]), KIB_64);
    expect(result.isOverLimit).toBe(true);
  });
});

describe('add --token-stdin: stdin over 64 KiB is exit 2, nothing saved', () => {
  const run = async (stdin: Readable): Promise<{ code: number; message: string; hint: string }> => {
    const ctx = fakeContext();
    ctx.gateway.org(ORG);
    const { code, error } = await exitOf(() =>
      addRun({ ...ctx, io: { ...ctx.io, stdin } }, parseOptions(addOptionsSchema, { name: 'prod', orgUrl: ORG, tokenStdin: true })),
    );
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.metadata.all()).toEqual([]);
    expect(ctx.oktaLoads).toBe(0);
    return { code, message: error?.message ?? '', hint: error?.hint ?? '' };
  };

  it('yes | okta-connect add …: ends, and says why', async () => {
    const outcome = await run(endless());
    expect(outcome.code).toBe(2);
    expect(outcome.message).toMatch(/^--token-stdin: stdin held more than 64 KiB/);
    expect(outcome.hint).toMatch(/printf %s "\$TOKEN"/);
  });

  it('a token followed by 64 KiB of padding is over the limit too', async () => {
    const outcome = await run(Readable.from([`${makeToken()}\n${' '.repeat(KIB_64)}`]));
    expect(outcome.code).toBe(2);
    expect(outcome.message).toMatch(/more than 64 KiB/);
  });

  it('exactly 64 KiB is read, and refused as a token (too long), not as too much input', async () => {
    const outcome = await run(Readable.from(['A'.repeat(KIB_64)]));
    expect(outcome.code).toBe(2);
    expect(outcome.message).toMatch(/too long/);
  });
});
