import { anthropic } from "../../src/index";
import { startAnthropicFake } from "../fakes/anthropic";
import { testProvider } from "./_suite";

testProvider({
  name: "anthropic",
  model: "anthropic/claude-sonnet-4-6",
  fake: startAnthropicFake,
  provider: (fake, apiKey) => anthropic({ apiKey: apiKey ?? fake!.apiKey, baseURL: fake!.baseURL }),
});
