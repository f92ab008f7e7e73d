import { echo } from "../../src/index";
import { testProvider } from "./_suite";

testProvider({ name: "echo", model: "echo/echo", provider: () => echo({ delayMs: 10 }) });
