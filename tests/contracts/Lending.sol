// SPDX-License-Identifier: MIT
// A lending-like pool for the state watcher tests: per-user deposits and debts, and a
// health view of a user; `poke` emits an event without a call to the pool itself being
// needed by the watchers' touch rule (Poker calls it from another contract).
pragma solidity ^0.8.20;

contract Lending {
    struct Position {
        uint256 collateral;
        uint256 debt;
    }

    mapping(address => Position) private positions;
    uint256 public totalDebt;

    event Poked(address indexed by, uint256 n);

    function deposit() external payable {
        positions[msg.sender].collateral += msg.value;
    }

    function borrow(uint256 amount) external {
        positions[msg.sender].debt += amount;
        totalDebt += amount;
    }

    function poke(uint256 n) external {
        emit Poked(msg.sender, n);
    }

    function positionOf(address user) external view returns (Position memory) {
        return positions[user];
    }

    function healthOf(address user) external view returns (uint256 collateral, uint256 debt, bool healthy) {
        Position memory p = positions[user];
        return (p.collateral, p.debt, p.debt * 2 <= p.collateral);
    }
}

// Calls Lending.poke from another contract: the pool emits a log in a transaction whose
// `to` is not the pool.
contract Poker {
    function pokeFrom(address pool, uint256 n) external {
        Lending(pool).poke(n);
    }
}
