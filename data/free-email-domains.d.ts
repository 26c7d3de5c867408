/** Domains of free mail providers (gmail.com, yahoo.com …), lowercase ASCII. */
declare const freeEmailDomains: readonly string[];
export default freeEmailDomains;
