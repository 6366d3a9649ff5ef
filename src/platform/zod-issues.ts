/** Zod issues as one readable line for a request's `error` ("windowId: Required; rating: ..."). */
export function formatZodIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((issue) => {
      const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
