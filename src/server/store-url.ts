/** The URL without its password, for log lines and messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url.replace(/@([^/]*,[^/]*)\//, '@multihost/'));
    const hosts = /@([^/?]*)/.exec(url)?.[1] ?? parsed.host;
    return `postgres://${parsed.username ? `${parsed.username}@` : ''}${hosts}${parsed.pathname}`;
  } catch {
    return 'postgres://…';
  }
}
