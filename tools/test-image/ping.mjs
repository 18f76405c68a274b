#!/usr/bin/env node
// Exits 0 when the container engine at DOCKER_HOST (or /var/run/docker.sock) answers, printing
// its name and version; else 1 with the reason. Used by .ci/run to decide whether to start Podman.
import { engineCall } from './engine.mjs';

try {
  const res = await engineCall('GET', '/version');
  if (res.status !== 200) throw new Error(`GET /version: ${res.status} ${res.text.slice(0, 200)}`);
  const name = res.json?.Components?.[0]?.Name ?? 'Engine';
  console.log(`${name} ${res.json?.Version ?? '?'} (API ${res.json?.ApiVersion ?? '?'})`);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
