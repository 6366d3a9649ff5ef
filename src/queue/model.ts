/**
 * The hall as the queue engine sees it: services, windows and policy. Built from the validated
 * YAML config (src/config) and never read from disk here: the queue core does no I/O.
 */

export interface LocalizedName {
  zh: string;
  en: string;
}

export interface ServiceDef {
  id: string;
  /** Ticket letter, e.g. "A" gives A001, A002 ... */
  prefix: string;
  /** Digits in the number part: 3 gives A001 .. A999. */
  digits: number;
  name: LocalizedName;
  /** Tickets that may be issued per day; absent = limited only by the number width. */
  dailyCap?: number;
  /** Used for the wait estimate until the day has enough finished tickets of its own. */
  averageHandlingMinutes: number;
}

/** A window's skill: a service it takes, with a weight (higher = preferred). */
export interface Skill {
  serviceId: string;
  weight: number;
}

/** Minutes since local midnight, [from, to). */
export interface TimeRange {
  from: number;
  to: number;
}

export interface WindowDef {
  id: string;
  /** The number announced and shown: "请 A023 号到 7 号窗口". */
  number: number;
  name: LocalizedName;
  /** In preference order when `skillMode` is "preference". */
  skills: Skill[];
  /**
   * preference: the first skill with a waiting ticket wins.
   * weighted: the service whose oldest ticket has the largest waited-time x weight wins.
   */
  skillMode: 'preference' | 'weighted';
  /** A 优先服务专窗: calls priority tickets of its services first, with no starvation guard. */
  priorityWindow: boolean;
  /** When the window is staffed (lunch-duty windows cover lunch). Empty = the hall's opening hours. */
  schedule: TimeRange[];
}

export interface QueuePolicy {
  /** Calls of the same ticket after the first. */
  recallLimit: number;
  /** Which windows call priority tickets ahead of normal ones. */
  priorityServedBy: 'all-windows' | 'priority-windows';
  /**
   * Starvation guard for normal windows: after this many priority calls in a row, a normal
   * window serves a normal ticket if one is waiting. 0 disables the guard.
   */
  priorityGuard: number;
  /** Where a no-show goes when put back in line: its original place, or the back of the line. */
  requeuePlace: 'original' | 'back';
  /** Appointment tickets become callable this many minutes before their slot starts. */
  appointmentEarlyMinutes: number;
  /**
   * An appointment is refused when its holder arrives more than this many minutes after the
   * slot has ended (default 15): they are offered a normal ticket instead.
   */
  appointmentLateGraceMinutes?: number;
  /** Statistics: an appointment called within this many minutes of its slot start is on time (default 5). */
  appointmentOnTimeMinutes?: number;
  /** Refuse call-next at a window outside its schedule. */
  enforceWindowSchedule: boolean;
}

export interface HallClock {
  /** IANA time zone of the hall, e.g. Asia/Shanghai. */
  timeZone: string;
  /** Minutes after local midnight when a new day (and new numbering) starts. */
  dayStartsAt: number;
  /** Weekdays the hall opens, 0 = Sunday. */
  openDays: number[];
  /** Opening hours; tickets still waiting at close are expired. */
  open: number;
  close: number;
}

export interface QueueModel {
  hallId: string;
  services: ServiceDef[];
  windows: WindowDef[];
  policy: QueuePolicy;
  clock: HallClock;
}
