/**
 * Every test file gets a temporary WSSCOPE_HOME (and so do the wsscope processes it starts,
 * which inherit it): the suite never creates or reads a real ~/.wsscope CA.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-home-'));
process.env.WSSCOPE_HOME = home;
process.on('exit', () => fs.rmSync(home, { recursive: true, force: true }));
