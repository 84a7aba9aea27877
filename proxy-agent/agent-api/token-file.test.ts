import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { AgentError } from '../errors.ts';
import { eventually, recordingLogger } from '../testing/helpers.ts';
import { TokenFile } from './token-file.ts';

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spokelink-token-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(path: string) {
  const logger = recordingLogger();
  const file = new TokenFile({ path, logger });
  onTestFinished(() => file.close());
  return { file, logger };
}

describe('TokenFile', () => {
  it('reads and trims the token at once', () => {
    const path = join(scratchDir(), 'token');
    writeFileSync(path, 'first-token\n');
    expect(open(path).file.token).toBe('first-token');
  });

  it.each([
    { name: 'missing', content: undefined, message: /agentApi\.tokenFile: ENOENT/ },
    { name: 'empty', content: ' \n', message: /agentApi\.tokenFile .*token is empty$/ },
  ])('refuses a $name file at start', ({ content, message }) => {
    const path = join(scratchDir(), 'token');
    if (content !== undefined) writeFileSync(path, content);
    const error = (() => {
      try {
        return new TokenFile({ path, logger: recordingLogger() });
      } catch (err: unknown) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'AGENT_ERR_INVALID_OPTIONS' });
    expect((error as Error).message).toMatch(message);
  });

  it('follows a rewrite of the file', async () => {
    const path = join(scratchDir(), 'token');
    writeFileSync(path, 'first-token');
    const { file, logger } = open(path);
    writeFileSync(path, 'second-token');
    await eventually('the new token', () => file.token === 'second-token');
    expect(logger.records).toContainEqual({
      level: 'info',
      msg: 'agent api token reloaded',
      fields: { tokenFile: path },
    });
  });

  it('follows a kubelet-style symlink swap of the projected volume', async () => {
    const dir = scratchDir();
    mkdirSync(join(dir, '..2026_01'));
    writeFileSync(join(dir, '..2026_01', 'token'), 'first-token');
    symlinkSync('..2026_01', join(dir, '..data'));
    symlinkSync(join('..data', 'token'), join(dir, 'token'));
    const { file } = open(join(dir, 'token'));
    expect(file.token).toBe('first-token');
    mkdirSync(join(dir, '..2026_02'));
    writeFileSync(join(dir, '..2026_02', 'token'), 'second-token');
    symlinkSync('..2026_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await eventually('the new token', () => file.token === 'second-token');
  });

  it('keeps the last token when the file disappears, and never logs a token', async () => {
    const path = join(scratchDir(), 'token');
    writeFileSync(path, 'secret-token');
    const { file, logger } = open(path);
    rmSync(path);
    file.reload();
    await eventually('a warning', () =>
      logger.records.find((r) => r.msg === 'agent api token reload failed; keeping the last token'),
    );
    expect(file.token).toBe('secret-token');
    expect(JSON.stringify(logger.records)).not.toContain('secret-token');
  });
});
