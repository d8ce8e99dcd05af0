/**
 * Personal data never reaches logs in clear. These keep just enough to correlate by eye
 * (`al***@example.com`, `+65******67`).
 */
export const maskEmail = (email: string): string => {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email.slice(0, Math.min(2, at))}***${email.slice(at)}`;
};

export const maskPhone = (phone: string): string => {
  const digits = phone.replace(/[^\d+]/g, '');
  if (digits.length <= 5) return '***';
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 5)}${digits.slice(-2)}`;
};
