import { OpenAPIHono } from "@hono/zod-openapi";
import { fieldProblems, validationProblem } from "./problem.ts";

/**
 * A router whose validation failures are 400 problems naming every invalid field.
 * @example const app = router(); app.openapi(route, handler);
 */
export function router(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return validationProblem(c, fieldProblems(result.error, result.target === "json" ? undefined : result.target));
    },
  });
}
