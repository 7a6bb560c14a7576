/** Milter wire constants (Sendmail's mfdef.h), named as there so they can be looked up. */

/** Command codes, MTA → filter (SMFIC_*). */
export const Command = {
  ABORT: 0x41, // 'A'
  BODY: 0x42, // 'B'
  CONNECT: 0x43, // 'C'
  MACRO: 0x44, // 'D'
  BODYEOB: 0x45, // 'E'
  HELO: 0x48, // 'H'
  QUIT_NC: 0x4b, // 'K'
  HEADER: 0x4c, // 'L'
  MAIL: 0x4d, // 'M'
  EOH: 0x4e, // 'N'
  OPTNEG: 0x4f, // 'O'
  QUIT: 0x51, // 'Q'
  RCPT: 0x52, // 'R'
  DATA: 0x54, // 'T'
  UNKNOWN: 0x55, // 'U'
} as const;
export type CommandCode = (typeof Command)[keyof typeof Command];

/** Response codes, filter → MTA (SMFIR_*). */
export const Response = {
  ADDRCPT: 0x2b, // '+'
  DELRCPT: 0x2d, // '-'
  ADDRCPT_PAR: 0x32, // '2'
  SHUTDOWN: 0x34, // '4'
  ACCEPT: 0x61, // 'a'
  REPLBODY: 0x62, // 'b'
  CONTINUE: 0x63, // 'c'
  DISCARD: 0x64, // 'd'
  CHGFROM: 0x65, // 'e'
  CONN_FAIL: 0x66, // 'f'
  ADDHEADER: 0x68, // 'h'
  INSHEADER: 0x69, // 'i'
  SETSYMLIST: 0x6c, // 'l'
  CHGHEADER: 0x6d, // 'm'
  PROGRESS: 0x70, // 'p'
  QUARANTINE: 0x71, // 'q'
  REJECT: 0x72, // 'r'
  SKIP: 0x73, // 's'
  TEMPFAIL: 0x74, // 't'
  REPLYCODE: 0x79, // 'y'
  OPTNEG: 0x4f, // 'O'
} as const;
export type ResponseCode = (typeof Response)[keyof typeof Response];

/** Action flags (SMFIF_*). */
export const ActionFlag = {
  ADDHDRS: 0x001,
  CHGBODY: 0x002,
  ADDRCPT: 0x004,
  DELRCPT: 0x008,
  CHGHDRS: 0x010,
  QUARANTINE: 0x020,
  CHGFROM: 0x040,
  ADDRCPT_PAR: 0x080,
  SETSYMLIST: 0x100,
} as const;
export const ACTIONS_V1 = 0x0f;
export const ACTIONS_V2 = 0x3f;
export const ACTIONS_ALL = 0x1ff;

/** Protocol flags (SMFIP_*). */
export const ProtocolFlag = {
  NOCONNECT: 0x1,
  NOHELO: 0x2,
  NOMAIL: 0x4,
  NORCPT: 0x8,
  NOBODY: 0x10,
  NOHDRS: 0x20,
  NOEOH: 0x40,
  NR_HDR: 0x80, // formerly NOHREPL
  NOUNKNOWN: 0x100,
  NODATA: 0x200,
  SKIP: 0x400,
  RCPT_REJ: 0x800,
  NR_CONN: 0x1000,
  NR_HELO: 0x2000,
  NR_MAIL: 0x4000,
  NR_RCPT: 0x8000,
  NR_DATA: 0x10000,
  NR_UNKN: 0x20000,
  NR_EOH: 0x40000,
  NR_BODY: 0x80000,
  HDR_LEADSPC: 0x100000,
  MDS_256K: 0x10000000,
  MDS_1M: 0x20000000,
} as const;
export const PROTOCOL_V1 = 0x3f;
export const PROTOCOL_V2 = 0x7f;
export const PROTOCOL_ALL = 0x1fffff;
/** Bits libmilter reserves for internal use; a peer must not set them apart from the MDS flags. */
export const PROTOCOL_INTERNAL = 0x70000000;

/** Macro-list stage ids in the OPTNEG reply (SMFIM_*). Note EOM (5) before EOH (6). */
export const MacroListStage = {
  CONNECT: 0,
  HELO: 1,
  ENVFROM: 2,
  ENVRCPT: 3,
  DATA: 4,
  EOM: 5,
  EOH: 6,
} as const;

/** libmilter's limit on one packet's payload unless MDS was negotiated. */
export const MAX_DATA_SIZE = 65535;
export const MAX_DATA_SIZE_256K = 262143;
export const MAX_DATA_SIZE_1M = 1048575;
/** Largest BODY / REPLBODY chunk. */
export const CHUNK_SIZE = 65535;
/** Highest protocol version this library speaks. */
export const PROTOCOL_VERSION = 6;
/** Lowest: libmilter refuses an MTA offering less ("protocol version too old") and so do we. */
export const MIN_PROTOCOL_VERSION = 2;
