// The package ships no types: an array of every prefix, with its groups as properties.
declare module 'role-based-email-addresses' {
  const prefixes: readonly string[] & {
    readonly MARKETING: readonly string[];
    readonly NOTIFICATION: readonly string[];
    readonly MEETING: readonly string[];
    readonly OTHER: readonly string[];
  };
  export default prefixes;
}
