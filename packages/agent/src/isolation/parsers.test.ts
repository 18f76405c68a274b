import { describe, expect, it } from 'vitest';
import { cpuQuotaUs, cpuShares, cpuTimes, cpuWeight, parseFlatKeyed, parsePids, rssBytes } from './cgroup-files.js';
import { parseListeningSockets, socketInode } from './proc-net.js';
import { parseStatTimes, parseStatusRss } from './proc-usage.js';
import { runIdOf } from './run-processes.js';

describe('/proc/net/tcp', () => {
  it('lists the listening sockets (state 0A) with their port and inode, IPv4 and IPv6', () => {
    const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:7A69 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:9C40 0100007F:7A69 01 00000000:00000000 00:00000000 00000000     0        0 123457 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0`;
    const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:7A6A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0`;
    // 0x7A69 = 31337; the established socket and the one without an inode are not listed.
    expect(parseListeningSockets(tcp)).toEqual([{ port: 31337, inode: 123456 }]);
    expect(parseListeningSockets(tcp6)).toEqual([{ port: 31338, inode: 999 }]);
    expect(parseListeningSockets('')).toEqual([]);
  });

  it('reads a socket inode from an fd link', () => {
    expect(socketInode('socket:[123456]')).toBe(123456);
    expect(socketInode('pipe:[5]')).toBeUndefined();
    expect(socketInode('/dev/null')).toBeUndefined();
  });
});

describe('cgroup files', () => {
  it('reads cpu times: v1 cpuacct.stat in USER_HZ ticks, v2 cpu.stat in µs', () => {
    expect(cpuTimes(parseFlatKeyed('user 250\nsystem 50\n'), 1)).toEqual({ user: 2.5, system: 0.5 });
    expect(cpuTimes(parseFlatKeyed('usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 4\n'), 2)).toEqual({ user: 2, system: 1 });
  });

  it('reads resident memory: v1 total_rss (else rss), v2 anon', () => {
    expect(rssBytes(parseFlatKeyed('cache 100\nrss 5\ntotal_cache 100\ntotal_rss 4096\n'), 1)).toBe(4096);
    expect(rssBytes(parseFlatKeyed('rss 8192\n'), 1)).toBe(8192);
    expect(rssBytes(parseFlatKeyed('anon 65536\nfile 1000\n'), 2)).toBe(65536);
  });

  it('reads the OOM kill counters of v1 memory.oom_control and v2 memory.events', () => {
    expect(parseFlatKeyed('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n').get('oom_kill')).toBe(2);
    expect(parseFlatKeyed('low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\noom_group_kill 0\n').get('oom_kill')).toBe(1);
  });

  it('lists cgroup.procs', () => {
    expect(parsePids('12\n345\n\n')).toEqual([12, 345]);
  });

  it('turns cpus into shares, weight and quota', () => {
    expect(cpuShares(0.5)).toBe(512);
    expect(cpuShares(0)).toBe(2);
    expect(cpuWeight(1)).toBe(40); // 1 + (1024 - 2) × 9999 / 262142, rounded
    expect(cpuWeight(0)).toBe(1);
    expect(cpuWeight(10_000)).toBe(10_000);
    expect(cpuQuotaUs(0.5)).toBe(50_000);
    expect(cpuQuotaUs(0)).toBe(1_000);
  });
});

describe('/proc/<pid> usage', () => {
  it('reads utime and stime even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 30 0 0 20 0 1 0 12345 1000000 200 18446744073709551615';
    expect(parseStatTimes(stat)).toEqual({ userSecs: 1.5, systemSecs: 0.3 });
  });

  it('reads the resident memory a process holds of its own: RssAnon + RssShmem, not its mapped files (VmRSS on old kernels, 0 for kernel threads)', () => {
    const node = 'Name:\tnode\nVmRSS:\t   52644 kB\nRssAnon:\t   12256 kB\nRssFile:\t   40388 kB\nRssShmem:\t     100 kB\nThreads:\t7\n';
    expect(parseStatusRss(node)).toBe((12256 + 100) * 1024);
    expect(parseStatusRss('Name:\tnode\nVmRSS:\t   51200 kB\nThreads:\t7\n')).toBe(51200 * 1024);
    expect(parseStatusRss('Name:\tkthreadd\n')).toBe(0);
  });
});


describe('/proc/<pid>/environ', () => {
  it('finds the run id, only as a whole variable', () => {
    const env = (...vars: string[]): Buffer => Buffer.from(`${vars.join('\0')}\0`);
    expect(runIdOf(env('PATH=/bin', 'MESO_EXECUTOR_RUN_ID=abc-1', 'HOME=/'))).toBe('abc-1');
    expect(runIdOf(env('MESO_EXECUTOR_RUN_ID=first'))).toBe('first');
    expect(runIdOf(env('X_MESO_EXECUTOR_RUN_ID=no', 'MESO_EXECUTOR_RUN_ID=yes'))).toBe('yes');
    expect(runIdOf(env('X_MESO_EXECUTOR_RUN_ID=no'))).toBeUndefined();
    expect(runIdOf(Buffer.from('MESO_EXECUTOR_RUN_ID=unterminated'))).toBe('unterminated');
  });
});
