/**
 * IP address operators: IPv4 and IPv6 addresses and CIDR blocks (RFC 4632), checked with node:net BlockList.
 * A bare address means a /32 (IPv4) or /128 (IPv6) block.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
 */
import { BlockList, isIP } from 'node:net';
import type { OperatorSpec, OperatorTable } from './operator.js';

function addressType(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

const ipAddress = (negated: boolean): OperatorSpec => ({
  negated,
  prepare(policyValues) {
    const blocks = new BlockList();
    for (const raw of policyValues) {
      const [address = '', prefixText, extra] = raw.trim().split('/');
      const type = addressType(address);
      const maxPrefix = type === 'ipv4' ? 32 : 128;
      const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!type || extra !== undefined || !(prefix >= 0 && prefix <= maxPrefix)) {
        return `the value "${raw}" is not an IP address or CIDR block`;
      }
      blocks.addSubnet(address, prefix, type);
    }
    return (contextValue) => {
      const type = addressType(contextValue.trim());
      return type !== undefined && blocks.check(contextValue.trim(), type);
    };
  },
});

export const ipAddressOperators: OperatorTable = {
  IpAddress: ipAddress(false),
  NotIpAddress: ipAddress(true),
};
