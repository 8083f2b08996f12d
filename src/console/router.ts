/**
 * Hash routes (`#/secrets`, `#/secret/<id>`): the page is one file, the server needs no route table, and a route
 * never reaches the server (nothing about what the operator looks at goes out in a request line).
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'secrets' }
  | { page: 'secret-new' }
  | { page: 'secret'; id: string }
  | { page: 'keys' }
  | { page: 'key'; id: string }
  | { page: 'audit' }
  | { page: 'identity' };

export function parseRoute(hash: string): Route {
  const [, first = '', rest] = /^#\/([^/]*)(?:\/(.*))?$/.exec(hash) ?? [];
  const id = rest === undefined ? undefined : decodeURIComponent(rest);
  if (first === 'secrets' && id === 'new') return { page: 'secret-new' };
  if (first === 'secret' && id) return { page: 'secret', id };
  if (first === 'keys') return { page: 'keys' };
  if (first === 'key' && id) return { page: 'key', id };
  if (first === 'audit') return { page: 'audit' };
  if (first === 'identity') return { page: 'identity' };
  return { page: 'secrets' };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'secret-new':
      return '#/secrets/new';
    case 'secret':
      return `#/secret/${encodeURIComponent(route.id)}`;
    case 'key':
      return `#/key/${encodeURIComponent(route.id)}`;
    default:
      return `#/${route.page}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}
