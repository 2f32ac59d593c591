BAGHDAD, Iraq (CNN) -- Dressed in a Superman shirt, 5-year-old Youssif held his sister's hand Friday, seemingly unaware that millions of people across the world have been touched by his story. Nearby, his parents talked about the new future and hope they have for their boy -- and the potential for recovery from his severe burns.

Youssif holds his sister's hand Friday. He's wearing a facial mask often used to help burn victims.

It's the best birthday present the Iraqi family could ever have imagined for their boy: Youssif turns 6 next Friday.

"I was so happy I didn't know what to do with myself," his mother, Zainab, told CNN, a broad smile across her face. "I didn't think the reaction would be this big."

His father said he was on the roof of his house when CNN called him with the news about the outpouring of support for his son.

"We just want to thank everyone who has come forward," he said. "We knew there was kindness out there."

Like his wife, he couldn't stop smiling. He talked about how he tried in vain to get help for his son in Baghdad, leaving "no stone unturned" on a mission to help his boy. There were many trips to the Ministry of Health. He says he even put in a request to Iraq's parliament for help.

The family eventually told CNN their story -- that Youssif was grabbed by masked men outside their home on January 15, doused in gasoline and set on fire. Simply by coming forward, his parents put themselves in incredible danger. No one has been arrested or held accountable in Youssif's case.  Watch CNN's Arwa Damon describe 'truly phenomenal' outpouring »

Shortly after Youssif's story aired Wednesday, the Children's Burn Foundation -- a nonprofit organization based in Sherman Oaks, California, that provides support for burn victims locally, nationally and internationally -- agreed to pay for the transportation for Youssif and his family to come to the United States and to set up a fund for donations.

You can make a donation at the foundation's site by clicking here. There's a drop-down menu under the "general donation" area that is marked "Youssif's fund."

The foundation says it will cover all medical costs -- from surgeries for Youssif to housing costs to any social rehabilitation that might be needed for him. Surgeries will be performed by Dr. Peter Grossman, a plastic surgeon with the affiliated Grossman Burn Center who is donating his services for Youssif's cause.

Officials are still trying to get the appropriate visas for the family's travels.

"We are prepared to have them come here, set them up in a housing situation, provide support for them and begin treatment," said Barbara Friedman, executive director of the Children's Burn Foundation. "We expect that the treatment will be from between six months to a year with many surgeries."

She added, "He will be getting the absolute best care that's available."

Youssif's parents said they know it's going to be a lengthy and difficult process and that adjusting to their stay in America may not be easy. But none of that matters -- getting help for their boy is first and foremost.

"I will do anything for Youssif," his father said, pulling his son closer to him. "Our child is everything."

His mother tried to coax Youssif to talk to us on this day. But he didn't want to; his mother says he's shy outside of their home.

The biggest obstacle now is getting the visas to leave, and the serious security risks they face every day and hour they remain in Iraq.

But this family -- which saw the very worst in humanity on that January day -- has new hope in the world. That is partly due to the tens of thousands of CNN.com users who were so moved by the story and wanted to act.

CNN Iraqi staff central to bringing this story together were also overwhelmed with the generosity coming from people outside of their border. In a nation that largely feels abandoned by the rest of the world, it was a refreshing realization. E-mail to a friend

CNN.com senior producer Wayne Drash contributed to this report in Atlanta.

@highlight

Parents beam with pride, can't stop from smiling from outpouring of support

@highlight

Mom: "I was so happy I didn't know what to do"

@highlight

Burn center in U.S. has offered to provide treatment for reconstructive surgeries

@highlight

Dad says, "Anything for Youssif"