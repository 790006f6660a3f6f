// Times as WordPress sends them. `current_time('mysql')` and MySQL DATETIME columns give the site's
// wall-clock time with no zone (`2025-11-06 10:00:00`); other clients send ISO 8601. Both are
// accepted, and nothing is ever refused for its format: a value we cannot read is kept as text
// (`canonical`) with no instant.
//
// A zone-less time is read in the site's own time zone: the `timezone` the plugin reported at
// registration (an IANA name such as `Asia/Tokyo`, an offset such as `+09:00` or `UTC+9`, or `UTC`).
// An unknown or missing zone reads it as UTC.

export interface SiteTime {
  /** The instant, or null for a value that names none (`0000-00-00 00:00:00`, unreadable text). */
  at: Date | null;
  /**
   * A stable text form for keys: `YYYY-MM-DD HH:MM:SS[.fff]` for wall-clock times (independent of
   * the zone they are read in, so a later change of the site's zone does not change keys), the UTC
   * ISO form for times that carry a zone, and `raw:<text>` for anything else.
   */
  canonical: string;
}

const wallClock =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export function parseSiteTime(value: string, timezone?: string | null): SiteTime {
  const text = value.trim();
  const match = wallClock.exec(text);
  if (!match) return { at: null, canonical: `raw:${text}` };
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction, zone] = match;
  const ms = fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0;
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
  const asUtc = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], ms);
  const check = new Date(asUtc);
  // Month 13, 31 February, MySQL's zero date: not a time.
  const valid =
    fields[0] > 0 &&
    check.getUTCFullYear() === fields[0] &&
    check.getUTCMonth() === fields[1] - 1 &&
    check.getUTCDate() === fields[2] &&
    fields[3] < 24 &&
    fields[4] < 60 &&
    fields[5] < 60;
  if (!valid) return { at: null, canonical: `raw:${text}` };
  if (zone) {
    const offset = /^z$/i.test(zone) ? 0 : fixedOffsetMinutes(zone);
    if (offset === undefined) return { at: null, canonical: `raw:${text}` };
    const at = new Date(asUtc - offset * 60_000);
    return { at, canonical: at.toISOString() };
  }
  const local = `${y}-${mo}-${d} ${h}:${mi}:${s}${ms ? `.${String(ms).padStart(3, '0')}` : ''}`;
  return { at: new Date(wallClockToUtc(asUtc, timezone)), canonical: local };
}

/** Parses `+09:00`, `+0900`, `-05`, `UTC+9`, `UTC+5.5`, `GMT-03:30`; minutes east of UTC. */
function fixedOffsetMinutes(zone: string): number | undefined {
  const match = /^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2})|\.(\d{1,2}))?$/i.exec(zone.trim());
  if (!match) return undefined;
  const [, sign, hours, minutes, decimal] = match;
  const total =
    Number(hours) * 60 + (minutes ? Number(minutes) : decimal ? Math.round(Number(`0.${decimal}`) * 60) : 0);
  if (total > 18 * 60) return undefined;
  return sign === '-' ? -total : total;
}

const formats = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormat(timezone: string): Intl.DateTimeFormat | null {
  if (!formats.has(timezone)) {
    let format: Intl.DateTimeFormat | null = null;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      format = null; // not a zone this runtime knows
    }
    if (formats.size < 1000) formats.set(timezone, format);
    else return format;
  }
  return formats.get(timezone) ?? null;
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function zoneOffsetAt(format: Intl.DateTimeFormat, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(utcMs))) parts[part.type] = Number(part.value);
  const shown = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return shown - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

/** The UTC instant of a wall-clock time (given as if it were UTC) in the site's zone. */
function wallClockToUtc(wallAsUtc: number, timezone: string | null | undefined): number {
  const zone = timezone?.trim();
  if (!zone || /^(UTC|GMT|Z)$/i.test(zone)) return wallAsUtc;
  const fixed = fixedOffsetMinutes(zone);
  if (fixed !== undefined) return wallAsUtc - fixed * 60_000;
  const format = zoneFormat(zone);
  if (!format) return wallAsUtc;
  // Guess with the offset at the wall time, then correct once with the offset at the guess (DST).
  const first = wallAsUtc - zoneOffsetAt(format, wallAsUtc);
  const second = wallAsUtc - zoneOffsetAt(format, first);
  return second;
}
