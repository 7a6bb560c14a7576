/** Host and domain names as the configuration accepts them: RFC 1123 labels (letters, digits, inner hyphens), no trailing dot. */

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isHostName(text: string): boolean {
  return HOST_NAME.test(text);
}
