// Placeholder until the webhook chain lands (issue 3).
export const handler = async () => ({ statusCode: 501, body: '{"code":"NOT_IMPLEMENTED"}' });
