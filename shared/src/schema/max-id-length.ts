/** The longest name or rowguid, in UTF-16 code units, that a replica and a server accept. */
export const MAX_ID_LENGTH = 128;
