import type { FieldProblem } from "../../api/problem.ts";
import { Layout, PeriodForm } from "../layout.tsx";

/** The request's fields as a manager knows them. */
const FIELDS: Record<string, string> = { "query.from": "From", "query.to": "To", "param.id": "Campaign", "query.cursor": "Page" };

/**
 * A page the dashboard could not show: what was wrong with the request and, for a refused
 * period, the period form again with what was asked, to correct it.
 * @example <ErrorPage title="Not found" detail="no campaign 0b6f…" />
 */
export function ErrorPage(props: { title: string; detail: string; errors?: FieldProblem[]; period?: { action: string; from: string; to: string } }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <section>
        {props.errors?.length ? (
          <ul class="error" role="alert" id="problem">
            {props.errors.map((e) => (
              <li>{`${FIELDS[e.field] ?? e.field}: ${e.reason}`}</li>
            ))}
          </ul>
        ) : (
          <p class="error" role="alert" id="problem">
            {props.detail}
          </p>
        )}
        {props.period && <PeriodForm action={props.period.action} period={props.period} />}
      </section>
      <p class="meta">
        <a href="/dashboard">← All campaigns</a>
      </p>
    </Layout>
  );
}
