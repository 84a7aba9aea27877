/**
 * Kubernetes resource quantities (`4`, `500m`, `16Gi`, `1e3`), exact: enough to add node
 * capacities the way the API server's own Quantity type does, and to print the sum in its
 * canonical form. Pure.
 *
 * A value is held as a whole number of nano-units (10⁻⁹), the smallest unit Kubernetes
 * prints; finer input is rounded up, as Kubernetes rounds it.
 */

/** How a quantity is written: with a binary suffix, a decimal suffix, or a decimal exponent. */
export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

/** A parsed quantity. */
export interface Quantity {
  /** The value in nano-units. */
  readonly nanos: bigint;
  /** How the value was written; sums keep the first non-zero term's. */
  readonly format: QuantityFormat;
}

const NANOS_PER_UNIT = 10n ** 9n;
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
/** Decimal suffixes by power of ten. */
const DECIMAL_SUFFIXES: Readonly<Record<number, string>> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const DECIMAL_EXPONENTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(DECIMAL_SUFFIXES).map(([exponent, suffix]) => [suffix, Number(exponent)]),
);
/** Exponents beyond this are refused (no node reports anything near them). */
const MAX_EXPONENT = 64;
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/;

/** Division rounding towards +∞ (Kubernetes rounds sub-nano fractions up). */
function divideUp(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b > 0n ? q + 1n : q;
}

/** Parses `text`; throws TypeError naming it when it is not a Kubernetes quantity. */
export function parseQuantity(text: string): Quantity {
  const match = QUANTITY.exec(text);
  if (match === null) throw new TypeError(`${JSON.stringify(text)} is not a quantity`);
  const [, sign = '', number = '', suffix = ''] = match;
  const [whole = '', fraction = ''] = number.split('.');
  const digits = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  const scale = 10n ** BigInt(fraction.length);
  const binaryPower = BINARY_SUFFIXES.indexOf(suffix as (typeof BINARY_SUFFIXES)[number]);
  if (suffix !== '' && binaryPower > 0) {
    const nanos = divideUp(digits * 1024n ** BigInt(binaryPower) * NANOS_PER_UNIT, scale);
    return { nanos, format: 'BinarySI' };
  }
  const isExponent = suffix.length > 1 && /^[eE]/.test(suffix);
  const exponent = isExponent ? Number(suffix.slice(1)) : (DECIMAL_EXPONENTS[suffix] ?? 0);
  if (Math.abs(exponent) > MAX_EXPONENT)
    throw new TypeError(`${JSON.stringify(text)} is out of range`);
  const shift = exponent + 9;
  const nanos =
    shift >= 0
      ? divideUp(digits * 10n ** BigInt(shift), scale)
      : divideUp(digits, scale * 10n ** BigInt(-shift));
  return { nanos, format: isExponent ? 'DecimalExponent' : 'DecimalSI' };
}

/**
 * The canonical text of a quantity, as the API server prints it: BinarySI as the largest
 * power-of-1024 suffix that keeps a whole number (values under 1024 or with a fraction fall
 * back to DecimalSI); DecimalSI as the largest power-of-1000 suffix (n … E) that keeps a whole
 * number (`1500`, `2k`, `1500m`); DecimalExponent likewise with `e<n>`.
 */
export function formatQuantity(quantity: Quantity): string {
  const { nanos, format } = quantity;
  const isWhole = nanos % NANOS_PER_UNIT === 0n;
  const units = nanos / NANOS_PER_UNIT;
  if (format === 'BinarySI' && isWhole && (units >= 1024n || units <= -1024n)) {
    let value = units;
    let power = 0;
    while (power < BINARY_SUFFIXES.length - 1 && value % 1024n === 0n) {
      value /= 1024n;
      power += 1;
    }
    return `${value}${BINARY_SUFFIXES[power]}`;
  }
  if (nanos === 0n) return '0';
  let mantissa = nanos;
  let exponent = -9;
  while (exponent < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exponent += 3;
  }
  if (format === 'DecimalExponent')
    return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  return `${mantissa}${DECIMAL_SUFFIXES[exponent]}`;
}

/**
 * The canonical sum of `texts` (at least one), in the format of the first non-zero term, as
 * Kubernetes' `Quantity.Add` keeps it. Throws TypeError for a text that is not a quantity.
 */
export function sumQuantities(texts: readonly string[]): string {
  const quantities = texts.map(parseQuantity);
  const first = quantities.find((q) => q.nanos !== 0n) ?? quantities[0];
  if (first === undefined) throw new TypeError('nothing to sum');
  const nanos = quantities.reduce((total, q) => total + q.nanos, 0n);
  return formatQuantity({ nanos, format: first.format });
}
