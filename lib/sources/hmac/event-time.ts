/**
 * An hmac sender's body has no agreed event time: the connection gets one only when its config
 * names a field for it (`fields.occurredAt`) or a signed timestamp header. Without either, a
 * change is stamped with its delivery time, which a retried old change would win with.
 */
export const hmacSuppliesEventTime = (options: Readonly<Record<string, unknown>>): boolean => {
  const fields = options.fields as Readonly<Record<string, unknown>> | undefined;
  return fields?.occurredAt !== undefined || options.timestampHeader !== undefined;
};
