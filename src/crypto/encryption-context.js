export function canonicalEncryptionContext(context) {
    if (!context)
        return Buffer.alloc(0);
    const keys = Object.keys(context).sort();
    if (keys.length === 0)
        return Buffer.alloc(0);
    return Buffer.from(JSON.stringify(keys.map((key) => [key, context[key]])), 'utf8');
}
