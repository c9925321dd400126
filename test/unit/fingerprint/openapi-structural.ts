/**
 * A small validator for Kubernetes structural schemas (a CRD's openAPIV3Schema), enough to hold a
 * generated TracingPolicy against Tetragon's own CRD: type, properties (unknown fields rejected unless
 * additionalProperties or x-kubernetes-preserve-unknown-fields allow them), required, enum, items,
 * minimum, maxLength. Test-only: the product validates with the zod schema in core/fingerprint.
 */
export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  required?: string[];
  enum?: unknown[];
  items?: StructuralSchema;
  minimum?: number;
  maxLength?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

export function validateStructural(value: unknown, schema: StructuralSchema, path = ''): string[] {
  const at = path || '(root)';
  const issues: string[] = [];
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !Number.isInteger(value)) issues.push(`${at}: expected int or string`);
    return issues;
  }
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected object`];
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in record)) issues.push(`${at}.${key}: required`);
      for (const [key, child] of Object.entries(record)) {
        const sub = schema.properties?.[key];
        if (sub) issues.push(...validateStructural(child, sub, `${path}.${key}`));
        else if (typeof schema.additionalProperties === 'object') issues.push(...validateStructural(child, schema.additionalProperties, `${path}.${key}`));
        else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true && schema.properties)
          issues.push(`${path}.${key}: unknown field`);
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected array`];
      value.forEach((item, i) => schema.items && issues.push(...validateStructural(item, schema.items, `${path}[${i}]`)));
      break;
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected string`];
      if (schema.maxLength !== undefined && value.length > schema.maxLength) issues.push(`${at}: longer than ${schema.maxLength}`);
      break;
    case 'integer':
      if (!Number.isInteger(value)) return [`${at}: expected integer`];
      break;
    case 'number':
      if (typeof value !== 'number') return [`${at}: expected number`];
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`${at}: expected boolean`];
      break;
  }
  if (schema.enum && !schema.enum.includes(value)) issues.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) issues.push(`${at}: below ${schema.minimum}`);
  return issues;
}
