// A desk app's first day, written against the TypeScript client generated from openapi.json
// (openapi-typescript's types, openapi-fetch's calls). CI only type-checks it: if the contract
// changes under it -- a field renamed, a body that no longer fits -- tsc fails, and so does CI.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./build/schema";

type Payment = components["schemas"]["PaymentRead"];

export async function firstDay(baseUrl: string, estateId: string, unitId: string, technicianId: string): Promise<Payment> {
  const api = createClient<paths>({ baseUrl });
  const signIn = await api.POST("/api/v1/auth/login", { body: { username: "qs.reception", password: "demo-password" } });
  if (!signIn.data) throw new Error(signIn.error?.title ?? "sign-in failed");
  const token: string = signIn.data.access_token;
  const auth: Middleware = { onRequest: ({ request }) => { request.headers.set("Authorization", `Bearer ${token}`); return request; } };
  api.use(auth);

  const registered = await api.POST("/api/v1/estates/{estate_id}/service-requests", {
    params: { path: { estate_id: estateId }, header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { channel: "phone", category: "plumbing", description: "厨房水龙头漏水", unit_id: unitId, contact_phone: "13351737459" },
  });
  if (!registered.data) throw new Error(registered.error?.title ?? "not registered");
  const orderId: string | null | undefined = registered.data.work_order_id;
  if (!orderId) throw new Error(`request ${registered.data.number} has no work order`);

  const dispatched = await api.POST("/api/v1/work-orders/{order_id}/dispatch", {
    params: { path: { order_id: orderId } },
    body: { technician_id: technicianId, start: "2026-12-08T09:00:00+08:00", end: "2026-12-08T11:00:00+08:00" },
  });
  if (!dispatched.data) throw new Error(dispatched.error?.title ?? "not dispatched");
  const status: string = dispatched.data.status;
  console.log(`order ${dispatched.data.number}: ${status}`);

  // Money is a decimal string, never a float; the key makes a retry safe.
  const paid = await api.POST("/api/v1/units/{unit_id}/payments", {
    params: { path: { unit_id: unitId }, header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { amount: "160.56", method: "cash", settle: "oldest_first" },
  });
  if (!paid.data) throw new Error(paid.error?.title ?? "not paid");
  const receiptNumber: string = paid.data.receipt.number;
  console.log(`receipt ${receiptNumber}`);
  return paid.data;
}
