// Types of build.mjs for TypeScript callers (the container tests' global setup).
export const DEFAULT_IMAGE: string;
export function ensureTestImage(options?: { image?: string; log?: (message: string) => void }): Promise<{ image: string; built: boolean; ms: number }>;
