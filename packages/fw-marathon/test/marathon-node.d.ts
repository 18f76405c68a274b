// marathon-node (npm) ships no types; the tests use it as an untyped Marathon client.
declare module 'marathon-node' {
  const marathon: (baseUrl: string, options?: Record<string, unknown>) => any;
  export default marathon;
}
