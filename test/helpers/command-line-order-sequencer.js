// Runs test files in the order given on the command line (jest's default orders them by past duration),
// so that "file B passes after file A in one database" can be checked:
//   jest --runInBand --testSequencer ./test/helpers/command-line-order-sequencer.js A.test.ts B.test.ts
const Sequencer = require("@jest/test-sequencer").default;

class CommandLineOrderSequencer extends Sequencer {
  sort(tests) {
    const paths = process.argv.slice(2).filter((arg) => arg.endsWith(".ts"));
    const position = (test) => paths.findIndex((path) => test.path.endsWith(path.replace(/^\.\//, "")));
    return [...tests].sort((a, b) => position(a) - position(b));
  }
}

module.exports = CommandLineOrderSequencer;
