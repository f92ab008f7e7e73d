// Express 4 is installed as the alias package `express4`; @types/express (v5) describes both.
declare module "express4" {
  import express from "express";
  export default express;
}
