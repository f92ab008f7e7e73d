import { openai } from "../../src/index";
import { startOpenAIFake } from "../fakes/openai";
import { testProvider } from "./_suite";

testProvider({
  name: "openai",
  model: "openai/gpt-4o-mini",
  fake: startOpenAIFake,
  provider: (fake, apiKey) => openai({ apiKey: apiKey ?? fake!.apiKey, baseURL: fake!.baseURL }),
});
