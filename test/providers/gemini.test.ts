import { gemini } from "../../src/index";
import { startGeminiFake } from "../fakes/gemini";
import { testProvider } from "./_suite";

testProvider({
  name: "gemini",
  model: "gemini/gemini-2.5-flash",
  fake: startGeminiFake,
  provider: (fake, apiKey) => gemini({ apiKey: apiKey ?? fake!.apiKey, baseURL: fake!.baseURL }),
});
