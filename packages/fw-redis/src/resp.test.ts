import { describe, expect, it } from 'vitest';
import { encode, parseCommands, RespProtocolError } from './resp.js';
import { globMatch } from './sentinel-server.js';
import { observationOf, parseInfo } from './redis-info.js';

describe('RESP', () => {
  it('encodes replies', () => {
    expect(encode(['127.0.0.1', '6379'])).toBe('*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n');
    expect(encode(null)).toBe('$-1\r\n');
    expect(encode({ simple: 'PONG' })).toBe('+PONG\r\n');
    expect(encode({ error: 'ERR x' })).toBe('-ERR x\r\n');
    expect(encode(['subscribe', 'ch', 1])).toBe('*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n');
  });

  it('parses multibulk and inline commands, keeping an incomplete one for later', () => {
    const full = Buffer.from('*2\r\n$4\r\nPING\r\n$3\r\nhé\r\nPING\r\n*1\r\n$4\r\nPI');
    const { commands, consumed } = parseCommands(full);
    expect(commands).toEqual([['PING', 'hé'], ['PING']]);
    expect(full.subarray(consumed).toString()).toBe('*1\r\n$4\r\nPI');
  });

  it('rejects garbage', () => {
    expect(() => parseCommands(Buffer.from('*1\r\n:5\r\n'))).toThrow(RespProtocolError);
  });

  it('matches PSUBSCRIBE patterns', () => {
    expect(globMatch('*', '+switch-master')).toBe(true);
    expect(globMatch('+switch-*', '+switch-master')).toBe(true);
    expect(globMatch('+sdown', '+switch-master')).toBe(false);
  });
});

describe('INFO', () => {
  it('reads a replica', () => {
    const o = observationOf(parseInfo('# Server\r\nrun_id:abc\r\nprocess_id:42\r\nuptime_in_seconds:7\r\n# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7000\r\nmaster_link_status:up\r\nslave_repl_offset:1234\r\nslave_priority:50\r\n'), 99);
    expect(o).toMatchObject({ at: 99, role: 'slave', runId: 'abc', pid: 42, offset: 1234, priority: 50, masterHost: '127.0.0.1', masterPort: 7000, linkUp: true });
  });
});
