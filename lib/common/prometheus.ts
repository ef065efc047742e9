// Writing the Prometheus text exposition format (0.0.4), shared by
// metricsText() and the Redis bridge's lines.

/** Escapes a label value. */
export const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Accumulates metric families as text lines. */
export class PromText {
  private readonly lines: string[] = [];

  /** One unlabelled sample with its HELP and TYPE lines. */
  one(name: string, type: 'gauge' | 'counter', help: string, value: number): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    return this;
  }

  /** One family with a sample per label value: `name{label="k"} v`. */
  labelled(name: string, type: 'gauge' | 'counter', help: string, label: string, values: Iterable<[string, number]>): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [k, v] of values) this.lines.push(`${name}{${label}="${escapeLabel(k)}"} ${v}`);
    return this;
  }

  /** A histogram from cumulative buckets `[le, count]` (without +Inf), its sum and count. */
  histogram(name: string, help: string, buckets: Iterable<[number | string, number]>, sum: number, count: number): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [le, n] of buckets) this.lines.push(`${name}_bucket{le="${le}"} ${n}`);
    this.lines.push(`${name}_bucket{le="+Inf"} ${count}`, `${name}_sum ${sum}`, `${name}_count ${count}`);
    return this;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}
