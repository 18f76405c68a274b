import { describe, expect, it } from 'vitest';
import { cachedUserLookup, type SystemUser } from './user.js';

describe('cachedUserLookup', () => {
  it('remembers a user found for its time to live, and asks again for one not found', async () => {
    let now = 0;
    const asked: string[] = [];
    const alice: SystemUser = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' };
    const lookup = cachedUserLookup(async (name) => {
      asked.push(name);
      return name === 'alice' ? alice : undefined;
    }, () => now, 1_000);
    expect(await lookup('alice')).toEqual(alice);
    now = 999;
    expect(await lookup('alice')).toEqual(alice);
    expect(await lookup('bob')).toBeUndefined();
    expect(await lookup('bob')).toBeUndefined();
    expect(asked).toEqual(['alice', 'bob', 'bob']);
    now = 1_000;
    await lookup('alice');
    expect(asked).toEqual(['alice', 'bob', 'bob', 'alice']);
  });

  it('asks once for many lookups of the same name at the same time', async () => {
    let asked = 0;
    const lookup = cachedUserLookup(async (name) => {
      asked++;
      await new Promise((r) => setTimeout(r, 5));
      return { name, uid: 1, gid: 1, home: '/' };
    }, () => 0);
    const users = await Promise.all(Array.from({ length: 20 }, () => lookup('alice')));
    expect(users.every((u) => u?.uid === 1)).toBe(true);
    expect(asked).toBe(1);
  });
});
