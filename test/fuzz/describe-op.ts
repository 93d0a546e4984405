import { rowguidOf, type Op, type Size, type Write } from './ops';

export function describeWrite(write: Write): string {
  switch (write.kind) {
    case 'delete':
      return `delete ${write.table}#${write.row}`;
    case 'bulk':
      return `bulkPut ${write.rows.map((row) => rowguidOf(write.table, row)).join(',')} {${write.columns}}~${write.salt}${sized(write.size)}`;
    case 'update':
      return `update ${write.table}#${write.row} {${write.columns}}~${write.salt}${sized(write.size)}`;
    default:
      return `${write.kind} ${rowguidOf(write.table, write.row)} {${write.columns}}~${write.salt}${sized(write.size)}`;
  }
}

const sized = (size: Size) => (size === 'small' ? '' : ` (${size} strings)`);

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'tx':
      return `r${op.replica}: ${op.writes.map(describeWrite).join('; ')}`;
    case 'sync':
      return `sync ${op.replicas.map((r) => `r${r}`).join(op.concurrent ? '|' : ',')}${op.twice ? ' (twice)' : ''}`;
    case 'write-during-sync':
      return `r${op.replica}: sync, during its ${op.route}: ${op.writes.map(describeWrite).join('; ')}`;
    case 'fault':
      return `r${op.replica}: arm ${op.fault.kind}${op.fault.arg === undefined ? '' : `(${op.fault.arg})`} on ${op.fault.route} after ${op.fault.after}`;
    case 'restart':
      return 'restart server';
    case 'backup':
      return 'back up the server store';
    case 'restore':
      return 'restore the server store from its backup';
    default:
      return `r${op.replica}: ${op.kind}`;
  }
}
