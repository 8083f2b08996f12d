/** Shapes several domains share. Domain records, not rows (see ../records.ts). */

export type Tag = { TagKey: string; TagValue: string };

export type Page<T> = { items: T[]; nextMarker?: string };
