import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The keys of the checkpoint files under `<directory>/<prefix>/` (any depth), without
 * reading them, so one unreadable file can be reported on its own instead of failing a
 * whole listing. Temporary files (`.…`) and files set aside (`*.corrupt`) are skipped.
 */
export async function listKeys(directory: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let names: import('node:fs').Dirent[];
    try {
      names = await readdir(join(directory, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      if (d.name.startsWith('.')) continue;
      const child = `${rel}/${d.name}`;
      if (d.isDirectory()) await walk(child);
      else if (d.isFile() && d.name.endsWith('.json')) out.push(child.slice(0, -'.json'.length));
    }
  };
  await walk(prefix);
  return out.sort();
}
