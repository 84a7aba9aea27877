// The README's runnable example runs, and prints what the README says it does.
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, inject, it } from 'vitest';

import { KUBERNETES_VERSION } from '../../sandbox/index.ts';

const hub = inject('hub');

describe('examples/tunnel-demo.ts', () => {
  it('reaches a spoke by dial, https.Agent and KubeConfig through the tunnel', async () => {
    const script = fileURLToPath(new URL('../../examples/tunnel-demo.ts', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [script],
        {
          env: { ...process.env, SPOKELINK_K8S_BIN_DIR: dirname(hub.binaries.etcd) },
          timeout: 120_000,
        },
        (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)),
      );
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^dial: stream \d+ to kube-apiserver:443$/);
    expect(lines[1]).toBe(`https.Agent: the spoke runs Kubernetes ${KUBERNETES_VERSION}`);
    expect(lines[2]).toMatch(/^KubeConfig: namespaces default, .*kube-system/);
  });
});
