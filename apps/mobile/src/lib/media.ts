import { baseUrl } from "./shop";

/** Product images are https:// URLs or paths under the edge's /media/. */
export function imageUrl(url: string): string {
  return url.startsWith("/") ? `${baseUrl}${url}` : url;
}
