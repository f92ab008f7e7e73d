import type { Middleware } from "h3";
import { useGatewayContext } from "../context";
import type { Dialect } from "../dialects/types";

/**
 * A route's first step: names its dialect on the context, so that every answer, errors of
 * later steps included, goes out in that API's format.
 */
export function speaks(dialect: Dialect): Middleware {
  return function speaks(event) {
    useGatewayContext(event).dialect = dialect;
  };
}
