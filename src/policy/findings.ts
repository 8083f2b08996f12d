/** Small helpers to build findings and their locations. */
import type { FindingType, PathElement, PolicyFinding } from './types.js';

export type Path = readonly PathElement[];

export function finding(FindingType: FindingType, IssueCode: string, FindingDetails: string, path?: Path): PolicyFinding {
  return path ? { FindingType, IssueCode, FindingDetails, Location: { Path: path } } : { FindingType, IssueCode, FindingDetails };
}

export function describePath(path: Path): string {
  return path.map((element) => ('Index' in element ? `[${element.Index}]` : `.${element.Value}`)).join('').replace(/^\./, '');
}
